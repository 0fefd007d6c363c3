! world tests/worlds/lab.ini
# Wi-Fi from a fresh module: the factory state, a join with its messages,
# the queries while connected, leaving, and settings that need a mode.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWMODE?\r\n
< +CWMODE:1\r\n\r\nOK\r\n
> AT+CWINIT?\r\n
< +CWINIT:1\r\n\r\nOK\r\n
> AT+CWSTATE?\r\n
< +CWSTATE:0,""\r\n\r\nOK\r\n
> AT+CWJAP?\r\n
< No AP\r\n\r\nOK\r\n
# COMPAT #47: zeros before an address exists
> AT+CIPSTA?\r\n
< +CIPSTA:ip:"0.0.0.0"\r\n+CIPSTA:gateway:"0.0.0.0"\r\n+CIPSTA:netmask:"0.0.0.0"\r\n\r\nOK\r\n
> AT+CWDHCP?\r\n
< +CWDHCP:3\r\n\r\nOK\r\n
> AT+CWAUTOCONN?\r\n
< +CWAUTOCONN:1\r\n\r\nOK\r\n
> AT+CWRECONNCFG?\r\n
< +CWRECONNCFG:0,0\r\n\r\nOK\r\n
> AT+CWSTAPROTO?\r\n
< +CWSTAPROTO:7\r\n\r\nOK\r\n
> AT+CWHOSTNAME?\r\n
< +CWHOSTNAME:espressif\r\n\r\nOK\r\n
> AT+CWCOUNTRY?\r\n
< +CWCOUNTRY:0,"CN",1,13\r\n\r\nOK\r\n
> AT+CWJEAP?\r\n
< \r\nOK\r\n
# the softAP's commands need the softAP on
> AT+CWSAP?\r\n
< \r\nERROR\r\n
> AT+CIPSTAMAC?\r\n
<~ +CIPSTAMAC:"34:85:18:{STR}"\r\n\r\nOK\r\n
> AT+CIPSTAMAC="1a:fe:35:98:d3:7b"\r\n
< \r\nOK\r\n
> AT+CIPSTAMAC?\r\n
< +CIPSTAMAC:"1a:fe:35:98:d3:7b"\r\n\r\nOK\r\n
# multicast, all-zero: refused
> AT+CIPSTAMAC="15:fe:35:98:d3:7b"\r\n
< \r\nERROR\r\n
> AT+CIPSTAMAC="00:00:00:00:00:00"\r\n
< \r\nERROR\r\n
# a join: scan (channel 1: 10 ms), association 50 ms, DHCP 30 ms
> AT+CWJAP="lab","labpass123"\r\n
~ 300
< WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n
> AT+CWSTATE?\r\n
< +CWSTATE:2,"lab"\r\n\r\nOK\r\n
> AT+CWJAP?\r\n
< +CWJAP:"lab","02:11:22:33:44:55",1,-40,0,1,3,0,1\r\n\r\nOK\r\n
> AT+CIPSTA?\r\n
< +CIPSTA:ip:"192.168.3.112"\r\n+CIPSTA:gateway:"192.168.3.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n
> AT+CWRECONNCFG?\r\n
< +CWRECONNCFG:1,0\r\n\r\nOK\r\n
# COMPAT #38: OK first, then the event
> AT+CWQAP\r\n
< \r\nOK\r\nWIFI DISCONNECT\r\n
> AT+CWSTATE?\r\n
< +CWSTATE:4,"lab"\r\n\r\nOK\r\n
# an SSID with a comma and quotes, escaped on the command line
> AT+CWJAP="guest\\, \\\"free\\\"",""\r\n
~ 300
< WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n
> AT+CWJAP?\r\n
< +CWJAP:"guest, "free"","02:11:22:33:44:66",11,-71,0,1,3,0,1\r\n\r\nOK\r\n
# a static address: DHCP off, applied at once
> AT+CIPSTA="10.0.0.9","10.0.0.1","255.255.255.0"\r\n
< \r\nOK\r\n
> AT+CWDHCP?\r\n
< +CWDHCP:2\r\n\r\nOK\r\n
> AT+CIPSTA?\r\n
< +CIPSTA:ip:"10.0.0.9"\r\n+CIPSTA:gateway:"10.0.0.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n
# wrong password, then a missing AP (a full sweep: 13 x 10 ms)
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
> AT+CWJAP="lab","wrong-pass"\r\n
< WIFI DISCONNECT\r\n
~ 600
< +CWJAP:2\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n
> AT+CWJAP="nowhere","whatever1"\r\n
~ 300
< +CWJAP:3\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n
# Enterprise: PEAP needs a user name
> AT+CWJEAP="corp",1,"me",,"x",0\r\n
< ERR CODE:0x01070003\r\n\r\nERROR\r\n
