# 3.1.11 AT+UART_CUR and 3.1.12 AT+UART_DEF. OK goes out at the old rate,
# then the UART changes. AT+UART is the deprecated alias of AT+UART_DEF.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+UART_CUR=115200,8,1,0,3\r\n
< \r\nOK\r\n
> AT+UART_CUR?\r\n
< +UART_CUR:115200,8,1,0,3\r\n\r\nOK\r\n
> AT+UART_DEF?\r\n
< +UART_DEF:115200,8,1,0,0\r\n\r\nOK\r\n
> AT+UART_CUR=921600,8,1,0,0\r\n
< \r\nOK\r\n
> AT+UART_CUR?\r\n
< +UART_CUR:921600,8,1,0,0\r\n\r\nOK\r\n
> AT+UART_DEF=115200,8,1,0,3\r\n
< \r\nOK\r\n
> AT+UART_DEF?\r\n
< +UART_DEF:115200,8,1,0,3\r\n\r\nOK\r\n
> AT+UART_CUR?\r\n
< +UART_CUR:115200,8,1,0,3\r\n\r\nOK\r\n
> AT+UART_DEF=230400,8,1,0,0\r\n
< \r\nOK\r\n
> AT+UART?\r\n
< +UART:230400,8,1,0,0\r\n\r\nOK\r\n
# ranges: baud 80..5000000, data bits 5..8, stop bits 1..3, parity 0..2,
# flow control 0..3; all five are required
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
> AT+UART_CUR=79,8,1,0,0\r\n
< ERR CODE:0x01070000\r\n\r\nERROR\r\n
> AT+UART_CUR=5000001,8,1,0,0\r\n
< ERR CODE:0x01070000\r\n\r\nERROR\r\n
> AT+UART_CUR=115200,4,1,0,0\r\n
< ERR CODE:0x01070001\r\n\r\nERROR\r\n
> AT+UART_CUR=115200,8,4,0,0\r\n
< ERR CODE:0x01070002\r\n\r\nERROR\r\n
> AT+UART_CUR=115200,8,1,3,0\r\n
< ERR CODE:0x01070003\r\n\r\nERROR\r\n
> AT+UART_DEF=115200,8,1,0,4\r\n
< ERR CODE:0x01070004\r\n\r\nERROR\r\n
> AT+UART_DEF=115200,8,1,0\r\n
< ERR CODE:0x01060504\r\n\r\nERROR\r\n
> AT+UART_DEF=115200,8,1,,0\r\n
< ERR CODE:0x01070003\r\n\r\nERROR\r\n
> AT+UART_CUR="115200",8,1,0,0\r\n
< ERR CODE:0x01050000\r\n\r\nERROR\r\n
> AT+UART_CUR=99999999999999999999,8,1,0,0\r\n
< ERR CODE:0x01050000\r\n\r\nERROR\r\n
> AT+UART_CUR\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
> AT+UART_CUR?\r\n
< +UART_CUR:230400,8,1,0,0\r\n\r\nOK\r\n
