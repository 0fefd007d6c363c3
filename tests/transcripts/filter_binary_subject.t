# Message filters match messages that have no NUL after them (a +SYSFLASH
# read answer in a buffer of its exact size). Found by tests/fuzz/fuzz_engine.c
# under ASan: the sanitizer's regexec interceptor scans the subject to a NUL,
# so src/posix/regex_posix.c matches on a NUL-terminated copy.
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
