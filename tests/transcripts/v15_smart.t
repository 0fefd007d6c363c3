! chip esp8266
! world tests/worlds/lab.ini
# v1.5 SmartConfig and WPS: "Smart get WiFi info", then the join's
# WiFi CONNECTED / WiFi GOT IP, and no "smartconfig connected wifi"
# (COMPAT #320).
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWSTARTSMART=4\r\n
< \r\nERROR\r\n
> AT+CWSTARTSMART=1\r\n
< \r\nOK\r\n
@ smartconfig lab labpass123
~ 3000
< smartconfig type:ESPTOUCH\r\nSmart get WiFi info\r\nssid:lab\r\npassword:labpass123\r\nWiFi CONNECTED\r\nWiFi GOT IP\r\n
> AT+CWSTOPSMART\r\n
< \r\nOK\r\n
@ smartconfig stop
> AT+CWQAP\r\n
< \r\nOK\r\nWiFi DISCONNECT\r\n
# WPS: <enable> only, no auth floor
> AT+WPS=1,0\r\n
< \r\nERROR\r\n
> AT+WPS=1\r\n
< \r\nOK\r\n
@ wps lab
~ 3000
< WiFi CONNECTED\r\nWiFi GOT IP\r\n
> AT+CWJAP?\r\n
< +CWJAP:"lab","02:11:22:33:44:55",1,-40\r\n\r\nOK\r\n
