# Omitted parameters (guide 3.13): an empty place between commas takes the
# default; a trailing comma equals no comma; a required one cannot be
# omitted; "" is an empty string, not an omitted one.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
# AT+SAVETRANSLINK=<mode>,<"remote host">,<remote port>[,<"type">,<keep_alive>]
> AT+SAVETRANSLINK=1,"192.168.6.110",1002,,60\r\n
< \r\nOK\r\n
> AT+SAVETRANSLINK=1,"192.168.6.110",1002,"UDP",\r\n
< \r\nOK\r\n
> AT+SAVETRANSLINK=1,"192.168.6.110",1002,\r\n
< \r\nOK\r\n
> AT+SAVETRANSLINK=1,,1002\r\n
< ERR CODE:0x01070001\r\n\r\nERROR\r\n
> AT+SAVETRANSLINK=1,"",1002\r\n
< ERR CODE:0x01070001\r\n\r\nERROR\r\n
# AT+RFPOWER=<wifi_power>[,<ble_adv_power>,<ble_scan_power>,<ble_conn_power>]
> AT+RFPOWER=50,,,\r\n
< \r\nOK\r\n
> AT+RFPOWER=,1,1,1\r\n
< ERR CODE:0x01070000\r\n\r\nERROR\r\n
# AT+SYSREG=<direct>,<address>[,<write value>]
> AT+SYSREG=0,0x1000,\r\n
< +SYSREG:0x00000000\r\n\r\nOK\r\n
> AT+SYSREG=1,0x1000,\r\n
< ERR CODE:0x01060302\r\n\r\nERROR\r\n
> AT+SYSREG=0,,\r\n
< ERR CODE:0x01070001\r\n\r\nERROR\r\n
# all five UART parameters are required
> AT+UART_CUR=115200,,1,0,0\r\n
< ERR CODE:0x01070001\r\n\r\nERROR\r\n
