! world tests/worlds/lab.ini
# The AP goes away and comes back; a deauthentication; auto-connect after a
# power cut. COMPAT #41/#42: after AT+CWJAP the station retries every
# second, silently, until the AP answers.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWJAP="lab","labpass123"\r\n
~ 300
< WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n
@ ap down lab
< WIFI DISCONNECT\r\n
> AT+CWSTATE?\r\n
< +CWSTATE:3,"lab"\r\n\r\nOK\r\n
~ 2500
> AT+CWJAP?\r\n
< No AP\r\n\r\nOK\r\n
@ ap up lab
~ 1500
< WIFI CONNECTED\r\nWIFI GOT IP\r\n
> AT+CWSTATE?\r\n
< +CWSTATE:2,"lab"\r\n\r\nOK\r\n
@ deauth
< WIFI DISCONNECT\r\n
~ 1500
< WIFI CONNECTED\r\nWIFI GOT IP\r\n
# a new key on the AP drops the station; the old one no longer gets in
@ ap set lab password=another-pass
< WIFI DISCONNECT\r\n
~ 2500
> AT+CWSTATE?\r\n
< +CWSTATE:3,"lab"\r\n\r\nOK\r\n
@ ap set lab password=labpass123
~ 1500
< WIFI CONNECTED\r\nWIFI GOT IP\r\n
# power cut: AT+CWAUTOCONN=1 (factory) joins the saved AP after ready
@ power-cut
< \r\nready\r\n
~ 500
< WIFI CONNECTED\r\nWIFI GOT IP\r\n
> AT+CWJAP?\r\n
< AT+CWJAP?\r\n+CWJAP:"lab","02:11:22:33:44:55",1,-40,0,1,3,0,1\r\n\r\nOK\r\n
