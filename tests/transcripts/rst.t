# 3.1.2 AT+RST: OK, then the port is dead for the restart time (300 ms):
# bytes sent meanwhile are lost, with no answer at all. Then ready.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+RST\r\n
< \r\nOK\r\n
~ 100
> AT\r\n
~ 250
< \r\nready\r\n
# the factory state again: echo on
> AT\r\n
< AT\r\n\r\nOK\r\n
# AT+RST=0: the same restart
> AT+RST=0\r\n
< AT+RST=0\r\n\r\nOK\r\n
~ 300
< \r\nready\r\n
> AT+RST=2\r\n
< AT+RST=2\r\n\r\nERROR\r\n
> AT+RST?\r\n
< AT+RST?\r\n\r\nERROR\r\n
# AT+RST=1: download mode, silent until power is cycled
> AT+RST=1\r\n
< AT+RST=1\r\n\r\nOK\r\n
~ 500
> AT\r\n
~ 100
= power-cycle
> AT\r\n
< AT\r\n\r\nOK\r\n
