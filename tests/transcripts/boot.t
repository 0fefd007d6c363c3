# Power-on: the runner has consumed "\r\nready\r\n". Factory state: echo on,
# AT+SYSLOG=0, AT+SYSSTORE=1, 115200 8N1 without flow control.
> AT\r\n
< AT\r\n\r\nOK\r\n
> AT+SYSLOG?\r\n
< AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n
> AT+SYSSTORE?\r\n
< AT+SYSSTORE?\r\n+SYSSTORE:1\r\n\r\nOK\r\n
> AT+UART_CUR?\r\n
< AT+UART_CUR?\r\n+UART_CUR:115200,8,1,0,0\r\n\r\nOK\r\n
> AT+UART_DEF?\r\n
< AT+UART_DEF?\r\n+UART_DEF:115200,8,1,0,0\r\n\r\nOK\r\n
