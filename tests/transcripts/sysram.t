# 3.1.14 AT+SYSRAM?: free heap and its low-water mark, in bytes.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSRAM?\r\n
<~ +SYSRAM:{INT},{INT}\r\n
< \r\nOK\r\n
> AT+SYSRAM\r\n
< \r\nERROR\r\n
> AT+SYSRAM=1\r\n
< \r\nERROR\r\n
