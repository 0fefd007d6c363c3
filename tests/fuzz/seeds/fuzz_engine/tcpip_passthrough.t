# fuzz_engine seed: passthrough in and out, +++ with its guard times,
# AT+SAVETRANSLINK and a power cycle that boots into passthrough.
> AT+CWMODE=1\r\n
> AT+CWJAP="espat","espatpass"\r\n
~ 3000
> AT+CIPMODE=1\r\n
> AT+CIPSTART="TCP","10.0.0.2",8080\r\n
~ 100
> AT+CIPSEND\r\n
> passthrough data\r\n
~ 30
> +++
~ 30
> AT+SYSMSG=5\r\n
> AT+TRANSINTVL=0\r\n
> AT+CIPSEND\r\n
> more
~ 30
> +++
~ 30
> AT+SAVETRANSLINK=1,"10.0.0.2",8080,"TCP"\r\n
= power-cycle
~ 3000
> after boot
~ 30
> +++
~ 30
> AT+SAVETRANSLINK=0\r\n
