# 3.1.10 AT+TRANSINTVL: interval in ms, default 20, range 0..1000.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+TRANSINTVL?\r\n
< +TRANSINTVL:20\r\n\r\nOK\r\n
> AT+TRANSINTVL=0\r\n
< \r\nOK\r\n
> AT+TRANSINTVL?\r\n
< +TRANSINTVL:0\r\n\r\nOK\r\n
> AT+TRANSINTVL=1000\r\n
< \r\nOK\r\n
> AT+TRANSINTVL=1001\r\n
< \r\nERROR\r\n
> AT+TRANSINTVL=-1\r\n
< \r\nERROR\r\n
> AT+TRANSINTVL?\r\n
< +TRANSINTVL:1000\r\n\r\nOK\r\n
