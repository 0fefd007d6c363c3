! world tests/worlds/lab.ini
# The softAP: configuration, two stations joining from the world, the
# DHCP server's leases, kicking them, and the limits.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWMODE=3\r\n
< \r\nOK\r\n
> AT+CWSAP?\r\n
<~ +CWSAP:"ESP_{HEX}","",1,0,10,0\r\n\r\nOK\r\n
> AT+CWSAP="espat-ap","secret123",5,3,2\r\n
< \r\nOK\r\n
> AT+CWSAP?\r\n
< +CWSAP:"espat-ap","secret123",5,3,2,0\r\n\r\nOK\r\n
# WEP and short passwords are refused
> AT+CWSAP="x","12345",5,1\r\n
< \r\nERROR\r\n
> AT+CWSAP="x","1234567",5,3\r\n
< \r\nERROR\r\n
> AT+CIPAP?\r\n
< +CIPAP:ip:"192.168.4.1"\r\n+CIPAP:gateway:"192.168.4.1"\r\n+CIPAP:netmask:"255.255.255.0"\r\n\r\nOK\r\n
> AT+CWDHCPS?\r\n
< +CWDHCPS:120,"192.168.4.2","192.168.4.101"\r\n\r\nOK\r\n
@ sta join 5e:d9:97:7b:ad:3c
< +STA_CONNECTED:"5e:d9:97:7b:ad:3c"\r\n
~ 300
< +DIST_STA_IP:"5e:d9:97:7b:ad:3c","192.168.4.2"\r\n
@! sta join 02:00:00:00:00:99 password=wrong-one
@ sta join 02:00:00:00:00:42 password=secret123
< +STA_CONNECTED:"02:00:00:00:00:42"\r\n
~ 300
< +DIST_STA_IP:"02:00:00:00:00:42","192.168.4.3"\r\n
# <max conn> 2: a third is refused
@! sta join 02:00:00:00:00:43
> AT+CWLIF\r\n
< +CWLIF:192.168.4.2,5e:d9:97:7b:ad:3c\r\n+CWLIF:192.168.4.3,02:00:00:00:00:42\r\n\r\nOK\r\n
@ sta leave 5e:d9:97:7b:ad:3c
< +STA_DISCONNECTED:"5e:d9:97:7b:ad:3c"\r\n
> AT+CWQIF="02:00:00:00:00:42"\r\n
< \r\nOK\r\n+STA_DISCONNECTED:"02:00:00:00:00:42"\r\n
> AT+CWLIF\r\n
< \r\nOK\r\n
> AT+CWDHCPS=1,3,"192.168.4.10","192.168.4.15"\r\n
< \r\nOK\r\n
> AT+CWDHCPS?\r\n
< +CWDHCPS:3,"192.168.4.10","192.168.4.15"\r\n\r\nOK\r\n
@ sta join 02:00:00:00:00:43 password=secret123
< +STA_CONNECTED:"02:00:00:00:00:43"\r\n
~ 300
< +DIST_STA_IP:"02:00:00:00:00:43","192.168.4.10"\r\n
# turning the softAP off drops its stations (OK first)
> AT+CWMODE=1\r\n
< \r\nOK\r\n
@! sta join 02:00:00:00:00:44
