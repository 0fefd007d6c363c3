# 3.1.23 AT+SYSTIMESTAMP: the guide's example, read back at once.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSTIMESTAMP?\r\n
<~ +SYSTIMESTAMP:{INT}\r\n\r\nOK\r\n
> AT+SYSTIMESTAMP=1565853509\r\n
< \r\nOK\r\n
> AT+SYSTIMESTAMP?\r\n
< +SYSTIMESTAMP:1565853509\r\n\r\nOK\r\n
> AT+SYSTIMESTAMP=-1\r\n
< \r\nERROR\r\n
> AT+SYSTIMESTAMP="1565853509"\r\n
< \r\nERROR\r\n
