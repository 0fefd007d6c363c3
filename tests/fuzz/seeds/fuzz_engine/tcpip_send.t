# fuzz_engine seed (scripts/fuzz.sh converts it; no runner plays it): join,
# a TCP link to the peer fuzz_engine.c serves, every send command, a +++.
> AT+CWMODE=1\r\n
> AT+CWJAP="espat","espatpass"\r\n
~ 3000
> AT+CIPSTART="TCP","10.0.0.2",8080\r\n
~ 100
> AT+CIPSEND=5\r\n
> hello
~ 100
> AT+CIPSENDEX=10\r\n
> ab\\\\0c\\0
~ 100
> AT+CIPSENDLCFG=100,100\r\n
> AT+CIPSENDL=150\r\n
> 0123456789012345678901234567890123456789012345678901234567890123
~ 30
> 0123456789012345678901234567890123456789012345678901234567890123
~ 100
> 0123456789012345678901
~ 100
> AT+CIPSEND=10\r\n
~ 30
> +++
~ 30
> AT+CIPSTATE?\r\n
> AT+CIPCLOSE\r\n
