# 3.1.16 AT+SYSMSGFILTER and 3.1.17 AT+SYSMSGFILTERCFG, the guide's example
# without the Wi-Fi part: OK and > for the regular expressions, which are
# data (CR LF are two real bytes, not escapes); add, list, enable, delete.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSMSGFILTER?\r\n
< +SYSMSGFILTER:0\r\n\r\nOK\r\n
> AT+SYSMSGFILTERCFG=0\r\n
< \r\nOK\r\n
> AT+SYSMSGFILTERCFG=1,17,0\r\n
< \r\nOK\r\n>
> ^WIFI CONNECTED\r\n
< \r\nOK\r\n
> AT+SYSMSGFILTERCFG?\r\n
< +SYSMSGFILTERCFG:0,"^WIFI CONNECTED\r\n",""\r\n\r\nOK\r\n
> AT+SYSMSGFILTER=1\r\n
< \r\nOK\r\n
> AT+SYSMSGFILTER?\r\n
< +SYSMSGFILTER:1\r\n\r\nOK\r\n
> AT+SYSMSGFILTERCFG=2,17,0\r\n
< \r\nOK\r\n>
> ^WIFI CONNECTED\r\n
< \r\nOK\r\n
> AT+SYSMSGFILTERCFG?\r\n
< \r\nOK\r\n
> AT+SYSMSGFILTER=0\r\n
< \r\nOK\r\n
# both lengths 0, or over 64: refused
> AT+SYSMSGFILTERCFG=1,0,0\r\n
< \r\nERROR\r\n
> AT+SYSMSGFILTERCFG=1,65,0\r\n
< \r\nERROR\r\n
