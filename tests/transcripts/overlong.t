# A command line is at most 256 bytes including CR LF; a longer one is
# dropped whole and answered ERROR (parameter length), and the next line
# works. Lines here are AT+SYSREG=0,0x0 padded with leading zeros.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
# 256 bytes: accepted
> AT+SYSREG=0,0x000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\r\n
< +SYSREG:0x00000000\r\n\r\nOK\r\n
# 257 bytes: too long
> AT+SYSREG=0,0x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\r\n
< ERR CODE:0x01040000\r\n\r\nERROR\r\n
> AT\r\n
< \r\nOK\r\n
# far too long, and not echoed with echo on
> ATE1\r\n
< \r\nOK\r\n
> AT+GMR=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n
< ERR CODE:0x01040000\r\n\r\nERROR\r\n
> AT\r\n
< AT\r\n\r\nOK\r\n
