! world tests/worlds/tcpip.ini
# Network faults through `@ fault ...` (docs/internals/ctl.md, "Faults";
# COMPAT #251): a DNS server that never answers leaves AT+CIPDOMAIN silent
# until its own <timeout>, then ERROR, and the next command works. In-process
# the fault layer sits over the memory network, over the pty over the
# host's resolver (which would answer "localhost" at once). Bad fault
# arguments are refused and change nothing.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWJAP="espat","espatpass"\r\n
~ 100
< WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n
@ fault dns hang
> AT+CIPDOMAIN="localhost",1,400\r\n
~ 300
~ 100
< \r\nERROR\r\n
> AT\r\n
< \r\nOK\r\n
@! fault dns slow
@! fault latency 60001
@! fault freeze 0
@ fault clear
> AT\r\n
< \r\nOK\r\n
