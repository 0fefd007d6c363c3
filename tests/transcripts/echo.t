# 3.1.7 ATE: echo on at power-on; ATE0 turns it off, ATE1 on. The echo is
# the received line byte for byte, terminator included, before the answer.
> AT\r\n
< AT\r\n\r\nOK\r\n
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT\r\n
< \r\nOK\r\n
> ATE1\r\n
< \r\nOK\r\n
> AT+GMR?\r\n
< AT+GMR?\r\n\r\nERROR\r\n
# only 0 and 1
> ATE2\r\n
< ATE2\r\n\r\nERROR\r\n
> ATE\r\n
< ATE\r\n\r\nERROR\r\n
# an empty line is echoed and otherwise ignored
> \r\n
< \r\n
# a line ending in LF alone is echoed as received, then refused
> AT\n
< AT\n\r\nERROR\r\n
# a CR inside the line is part of it
> A\rT\r\n
< A\rT\r\n\r\nERROR\r\n
# echo is not saved: after a restart it is on again
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+RST\r\n
< \r\nOK\r\n
~ 300
< \r\nready\r\n
> AT\r\n
< AT\r\n\r\nOK\r\n
