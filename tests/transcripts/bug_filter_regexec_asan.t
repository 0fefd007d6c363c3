# BUG (src/posix/regex_posix.c rx_match), fails only in the ASan build:
# message filters call regexec() with REG_STARTEND on message bytes that
# have no NUL after them. glibc honours REG_STARTEND, but the sanitizer's
# regexec interceptor runs strlen() over the subject first, so any filtered
# message in a heap buffer of its exact size (here the +SYSFLASH read
# answer) is a heap-buffer-overflow that aborts the ASan espat and
# transcript_run (found by tests/fuzz/fuzz_engine.c). Fix: match a
# NUL-terminated copy. Rename this file without "bug_" once fixed.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSMSGFILTERCFG=1,3,0\r\n
< \r\nOK\r\n>
> ^WX
< \r\nOK\r\n
> AT+SYSMSGFILTER=1\r\n
< \r\nOK\r\n
> AT+SYSFLASH=2,"fatfs",0,16\r\n
< +SYSFLASH:16,\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\r\n\r\nOK\r\n
> AT\r\n
< \r\nOK\r\n
