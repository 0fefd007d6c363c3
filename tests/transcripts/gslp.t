# 3.1.6 AT+GSLP: OK (no <time> line, as in the 4.9.8 transcript), then deep
# sleep for <time> ms, then a boot with ready. 0 restarts at once.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+GSLP=1000\r\n
< \r\nOK\r\n
~ 500
> AT\r\n
~ 600
< \r\nready\r\n
> AT\r\n
< AT\r\n\r\nOK\r\n
> AT+GSLP=0\r\n
< AT+GSLP=0\r\n\r\nOK\r\n
~ 300
< \r\nready\r\n
> AT+GSLP=-1\r\n
< AT+GSLP=-1\r\n\r\nERROR\r\n
> AT+GSLP\r\n
< AT+GSLP\r\n\r\nERROR\r\n
> AT+GSLP?\r\n
< AT+GSLP?\r\n\r\nERROR\r\n
