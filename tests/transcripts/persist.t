# What survives a power cycle (guide 1.7 / COMPAT #18): AT+UART_DEF and
# AT+SAVETRANSLINK always, AT+SYSMSG while AT+SYSSTORE=1; not ATE,
# AT+SYSLOG, AT+UART_CUR, AT+TRANSINTVL, AT+SLEEP, AT+RFPOWER.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
> AT+UART_DEF=230400,8,1,0,0\r\n
< \r\nOK\r\n
> AT+UART_CUR=921600,8,1,0,0\r\n
< \r\nOK\r\n
> AT+SYSMSG=5\r\n
< \r\nOK\r\n
> AT+TRANSINTVL=7\r\n
< \r\nOK\r\n
> AT+SLEEP=3\r\n
< \r\nOK\r\n
> AT+RFPOWER=44,1,1,1\r\n
< \r\nOK\r\n
= power-cycle
> AT\r\n
< AT\r\n\r\nOK\r\n
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+FAKE\r\n
< \r\nERROR\r\n
> AT+UART_CUR?\r\n
< +UART_CUR:230400,8,1,0,0\r\n\r\nOK\r\n
> AT+UART_DEF?\r\n
< +UART_DEF:230400,8,1,0,0\r\n\r\nOK\r\n
> AT+SYSMSG?\r\n
< +SYSMSG:5\r\n\r\nOK\r\n
> AT+TRANSINTVL?\r\n
< +TRANSINTVL:20\r\n\r\nOK\r\n
> AT+SLEEP?\r\n
<~ +SLEEP:{INT}\r\n\r\nOK\r\n
> AT+RFPOWER?\r\n
<~ +RFPOWER:{INT},{INT},{INT},{INT}\r\n\r\nOK\r\n
