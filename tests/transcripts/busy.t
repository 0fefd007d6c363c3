# busy p...: input that arrives while a command executes is dropped, one
# busy p... per line begun. Bytes sent back to back in one write arrive
# together: the first line runs, the rest arrived while it ran (FAQ 8.2).
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
>> AT\r\nAT\r\n
< \r\nOK\r\nbusy p...\r\n
>> AT+GMR\r\nAT\r\nAT\r\n
<~ AT version:{STR}\r\n{LINES}\r\nOK\r\nbusy p...\r\nbusy p...\r\n
# the FAQ's trailing space after a command
>> AT\r\n\x20
< \r\nOK\r\nbusy p...\r\n
# under AT+SYSLOG=1 the busy line carries 0x010b0000
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
>> AT\r\nAT\r\n
< \r\nOK\r\nERR CODE:0x010b0000\r\nbusy p...\r\n
# the dropped input does not run later
> AT+SYSLOG?\r\n
< +SYSLOG:1\r\n\r\nOK\r\n
