# 3.1.24 AT+SYSLOG: the guide's example with the unknown command AT+FAKE.
> AT+SYSLOG=1\r\n
< AT+SYSLOG=1\r\n\r\nOK\r\n
> AT+FAKE\r\n
< AT+FAKE\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n
> AT+SYSLOG?\r\n
< AT+SYSLOG?\r\n+SYSLOG:1\r\n\r\nOK\r\n
> AT+SYSLOG=0\r\n
< AT+SYSLOG=0\r\n\r\nOK\r\n
> AT+FAKE\r\n
< AT+FAKE\r\n\r\nERROR\r\n
> AT+SYSLOG=2\r\n
< AT+SYSLOG=2\r\n\r\nERROR\r\n
> AT+SYSLOG?\r\n
< AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n
