# A command that takes time stays pending: AT+SYSFLASH erase (25 ms per 4 KB
# sector; the whole fatfs partition takes well under 700 ms). Input that
# arrives meanwhile is dropped with busy p..., one per line begun, then the
# command's own OK.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSFLASH=0,"fatfs"\r\n
> AT\r\n
< busy p...\r\n
> AT+GMR\r\n
< busy p...\r\n
~ 700
< \r\nOK\r\n
> AT\r\n
< \r\nOK\r\n
# under AT+SYSLOG=1 the busy line carries 0x010b0000
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
> AT+SYSFLASH=0,"fatfs",0,8192\r\n
> AT\r\n
< ERR CODE:0x010b0000\r\nbusy p...\r\n
~ 100
< \r\nOK\r\n
> AT+SYSFLASH=0,"fatfs",0,8191\r\n
< ERR CODE:0x01070003\r\n\r\nERROR\r\n
