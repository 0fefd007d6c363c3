# 3.1.28 AT+SYSTEMP?: Celsius with two decimals.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSTEMP?\r\n
<~ +SYSTEMP:{FLOAT}\r\n\r\nOK\r\n
> AT+SYSTEMP\r\n
< \r\nERROR\r\n
