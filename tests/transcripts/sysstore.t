# 3.1.26 AT+SYSSTORE: with 0, set commands of the SYSSTORE class change RAM
# only; queries read RAM. AT+SYSSTORE itself is 1 again after a power cycle.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSSTORE?\r\n
< +SYSSTORE:1\r\n\r\nOK\r\n
> AT+SYSMSG=1\r\n
< \r\nOK\r\n
> AT+SYSSTORE=0\r\n
< \r\nOK\r\n
> AT+SYSSTORE?\r\n
< +SYSSTORE:0\r\n\r\nOK\r\n
> AT+SYSMSG=6\r\n
< \r\nOK\r\n
> AT+SYSMSG?\r\n
< +SYSMSG:6\r\n\r\nOK\r\n
# AT+UART_DEF is always saved
> AT+UART_DEF=57600,8,1,0,0\r\n
< \r\nOK\r\n
= power-cycle
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSSTORE?\r\n
< +SYSSTORE:1\r\n\r\nOK\r\n
> AT+SYSMSG?\r\n
< +SYSMSG:1\r\n\r\nOK\r\n
> AT+UART_DEF?\r\n
< +UART_DEF:57600,8,1,0,0\r\n\r\nOK\r\n
> AT+SYSSTORE=2\r\n
< \r\nERROR\r\n
