# 3.1.27 AT+SYSREG: registers read 0 until written.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSREG=0,0x60008800\r\n
< +SYSREG:0x00000000\r\n\r\nOK\r\n
> AT+SYSREG=1,0x60008800,0xdeadbeef\r\n
< \r\nOK\r\n
> AT+SYSREG=0,0x60008800\r\n
< +SYSREG:0xdeadbeef\r\n\r\nOK\r\n
> AT+SYSREG=1,1610647552,16\r\n
< \r\nOK\r\n
> AT+SYSREG=0,0x60008800\r\n
< +SYSREG:0x00000010\r\n\r\nOK\r\n
# a write needs a value; a read takes none
> AT+SYSREG=1,0x60008800\r\n
< \r\nERROR\r\n
> AT+SYSREG=0,0x60008800,1\r\n
< \r\nERROR\r\n
> AT+SYSREG=2,0x60008800\r\n
< \r\nERROR\r\n
> AT+SYSREG=0,0x100000000\r\n
< \r\nERROR\r\n
> AT+SYSREG=1,0x60008800,0x100000000\r\n
< \r\nERROR\r\n
