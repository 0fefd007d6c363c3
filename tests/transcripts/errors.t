# ERROR answers and their ERR CODE under AT+SYSLOG=1 (guide 3.1.24):
# 0x01SSEEEE, subcategory SS, extension EEEE = index of the parameter at
# fault, or need << 8 | given for a count mismatch.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
# 0x02 no terminator: LF without CR
> AT\n
< ERR CODE:0x01020000\r\n\r\nERROR\r\n
# 0x03 no AT (lower or mixed case included)
> at\r\n
< ERR CODE:0x01030000\r\n\r\nERROR\r\n
> At\r\n
< ERR CODE:0x01030000\r\n\r\nERROR\r\n
> aT+GMR\r\n
< ERR CODE:0x01030000\r\n\r\nERROR\r\n
> +GMR\r\n
< ERR CODE:0x01030000\r\n\r\nERROR\r\n
> \x00AT\r\n
< ERR CODE:0x01030000\r\n\r\nERROR\r\n
# 0x04 length: a line over 256 bytes (see overlong.t)
# 0x05 type: a string where a number belongs, or no number at all
> AT+SYSMSG="1"\r\n
< ERR CODE:0x01050000\r\n\r\nERROR\r\n
> AT+SYSMSG=1a\r\n
< ERR CODE:0x01050000\r\n\r\nERROR\r\n
> AT+SYSMSG=99999999999999999999\r\n
< ERR CODE:0x01050000\r\n\r\nERROR\r\n
# 0x06 number of parameters: need << 8 | given
> AT+SYSMSG=1,2\r\n
< ERR CODE:0x01060102\r\n\r\nERROR\r\n
> AT+UART_CUR=115200,8\r\n
< ERR CODE:0x01060502\r\n\r\nERROR\r\n
# 0x07 invalid: out of range, or a required parameter omitted
> AT+SYSMSG=8\r\n
< ERR CODE:0x01070000\r\n\r\nERROR\r\n
> AT+SYSMSG=\r\n
< ERR CODE:0x01070000\r\n\r\nERROR\r\n
> AT+UART_CUR=115200,8,1,0,9\r\n
< ERR CODE:0x01070004\r\n\r\nERROR\r\n
# 0x08 parse: broken quoting, or a form that is none of the four
> AT+SAVETRANSLINK=1,"192.168.6.110,1002\r\n
< ERR CODE:0x01080001\r\n\r\nERROR\r\n
> AT+SAVETRANSLINK=1,"192.168.6.110"x,1002\r\n
< ERR CODE:0x01080001\r\n\r\nERROR\r\n
> AT+GMR??\r\n
< ERR CODE:0x01080000\r\n\r\nERROR\r\n
> AT+GMR \r\n
< ERR CODE:0x01080000\r\n\r\nERROR\r\n
# 0x09 unknown command (names are exact and upper case)
> AT+FAKE\r\n
< ERR CODE:0x01090000\r\n\r\nERROR\r\n
> AT+gmr\r\n
< ERR CODE:0x01090000\r\n\r\nERROR\r\n
> AT+GM\r\n
< ERR CODE:0x01090000\r\n\r\nERROR\r\n
> AT+GMRX\r\n
< ERR CODE:0x01090000\r\n\r\nERROR\r\n
> ATZ\r\n
< ERR CODE:0x01090000\r\n\r\nERROR\r\n
# 0x0b busy (see busy.t); 0x0c a form the command lacks
> AT+GMR?\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
> AT+GMR=?\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
> AT+SYSRAM=1\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
> AT+SYSREG?\r\n
< ERR CODE:0x010c0000\r\n\r\nERROR\r\n
# a lower-case letter is part of the name: an unknown command, not a parse error
> AT+GMRx\r\n
< ERR CODE:0x01090000\r\n\r\nERROR\r\n
# ATE takes decimal digits only
> ATE0x1\r\n
< ERR CODE:0x01080000\r\n\r\nERROR\r\n
> ATE\r\n
< ERR CODE:0x01080000\r\n\r\nERROR\r\n
# after all that, the module works
> AT\r\n
< \r\nOK\r\n
