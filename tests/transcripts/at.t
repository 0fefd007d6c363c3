# 3.1.1 AT: test AT startup. Only the execute form exists.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT\r\n
< \r\nOK\r\n
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
# the other forms do not exist: operation type error
> AT?\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
> AT=?\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
> AT=1\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
> AT\r\n
< \r\nOK\r\n
