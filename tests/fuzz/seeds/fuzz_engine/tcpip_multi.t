# fuzz_engine seed: multiple connections, the server, UDP, passive receive,
# DNS (fuzz_engine.c gives peer.example a row).
> AT+CWMODE=1\r\n
> AT+CWJAP="espat","espatpass"\r\n
~ 3000
> AT+CIPMUX=1\r\n
> AT+CIPSERVER=1,333\r\n
> AT+CIPRECVTYPE=1,1\r\n
> AT+CIPDINFO=1\r\n
> AT+CIPSTART=0,"TCP","peer.example",8080\r\n
~ 100
> AT+CIPSTART=1,"TCP","10.0.0.2",8080,60,,2000\r\n
~ 100
> AT+CIPSTARTEX="UDP","10.0.0.3",5000,6000,2\r\n
> AT+CIPSEND=2,3,"10.0.0.4",5001\r\n
> udp
~ 100
> AT+CIPSEND=0,4\r\n
> zero
~ 100
> AT+CIPRECVLEN?\r\n
> AT+CIPRECVDATA=1,100\r\n
> AT+CIPTCPOPT=5,0,1,500,10\r\n
> AT+CIPSTATE?\r\n
> AT+CIPDOMAIN="peer.example"\r\n
~ 100
> AT+CIPCLOSE=5\r\n
> AT+CIPSERVER=0,1\r\n
