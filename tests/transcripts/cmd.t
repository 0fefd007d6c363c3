# 3.1.5 AT+CMD?: one line per command, in registration order, with the
# forms it supports (test, query, set, execute).
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CMD?\r\n
< +CMD:0,"AT",0,0,0,1\r\n
< +CMD:1,"AT+RST",0,0,1,1\r\n
< +CMD:2,"AT+GMR",0,0,0,1\r\n
< +CMD:3,"AT+CMD",0,1,0,0\r\n
< +CMD:4,"AT+GSLP",0,0,1,0\r\n
< +CMD:5,"ATE",0,0,0,1\r\n
<~ {LINES}
<~ +CMD:{INT},"AT+SYSTEMP",0,1,0,0\r\n
<~ {LINES}
< \r\nOK\r\n
> AT+CMD\r\n
< \r\nERROR\r\n
