! chip esp8266
! world tests/worlds/lab.ini
# ESP8266 v1.5 Wi-Fi (section 4): _CUR / _DEF / deprecated forms, the
# 4-field +CWJAP?, +CWJAP:<code> then FAIL, the 7-field +CWLAP, WiFi
# reports in mixed case, the old AT+CWDHCP order and bits, +CIPSTA:<IP>.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWMODE=?\r\n
< +CWMODE:(1-3)\r\n\r\nOK\r\n
> AT+CWMODE_CUR=?\r\n
< +CWMODE_CUR:(1-3)\r\n\r\nOK\r\n
> AT+CWMODE?\r\n
< +CWMODE:1\r\n\r\nOK\r\n
# no mode 0 in v1.5
> AT+CWMODE_CUR=0\r\n
< \r\nERROR\r\n
# _CUR changes RAM only; _DEF? reads flash
> AT+CWMODE_CUR=3\r\n
< \r\nOK\r\n
> AT+CWMODE_CUR?\r\n
< +CWMODE_CUR:3\r\n\r\nOK\r\n
> AT+CWMODE_DEF?\r\n
< +CWMODE_DEF:1\r\n\r\nOK\r\n
> AT+CWMODE_DEF=2\r\n
< \r\nOK\r\n
> AT+CWMODE_DEF?\r\n
< +CWMODE_DEF:2\r\n\r\nOK\r\n
> AT+CWMODE_CUR=1\r\n
< \r\nOK\r\n
= power-cycle
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWMODE?\r\n
< +CWMODE:2\r\n\r\nOK\r\n
# the deprecated form saves too
> AT+CWMODE=3\r\n
< \r\nOK\r\n
> AT+CWMODE_DEF?\r\n
< +CWMODE_DEF:3\r\n\r\nOK\r\n
# AT+CWLAP: seven fields, <ecn> 0..4 only
> AT+CWLAP\r\n
~ 200
<~ +CWLAP:(3,"lab",-40,"02:11:22:33:44:55",1,-1,-1)\r\n{LINES}\r\nOK\r\n
> AT+CWLAPOPT=1,7\r\n
< \r\nOK\r\n
> AT+CWLAP="lab"\r\n
~ 200
< +CWLAP:(3,"lab",-40)\r\n\r\nOK\r\n
> AT+CWLAPOPT=0,128\r\n
< \r\nERROR\r\n
# a failed join: +CWJAP:<code> then FAIL, whatever the suffix
> AT+CWJAP_CUR="lab","wrongpass1"\r\n
~ 300
<~ {LINES}+CWJAP:{INT}\r\n\r\nFAIL\r\n
> AT+CWJAP?\r\n
< No AP\r\n\r\nOK\r\n
> AT+CWJAP_CUR="lab"\r\n
< \r\nERROR\r\n
# a join: WiFi CONNECTED, WiFi GOT IP
> AT+CWJAP_CUR="lab","labpass123"\r\n
~ 300
< WiFi CONNECTED\r\nWiFi GOT IP\r\n\r\nOK\r\n
> AT+CWJAP?\r\n
< +CWJAP:"lab","02:11:22:33:44:55",1,-40\r\n\r\nOK\r\n
> AT+CWJAP_CUR?\r\n
< +CWJAP_CUR:"lab","02:11:22:33:44:55",1,-40\r\n\r\nOK\r\n
> AT+CWJAP_DEF?\r\n
< +CWJAP_DEF:"lab","02:11:22:33:44:55",1,-40\r\n\r\nOK\r\n
> AT+CIPSTA?\r\n
< +CIPSTA:"192.168.3.112"\r\n\r\nOK\r\n
> AT+CIPSTA_CUR?\r\n
< +CIPSTA_CUR:"192.168.3.112"\r\n\r\nOK\r\n
> AT+CIPAP_DEF?\r\n
< +CIPAP_DEF:"192.168.4.1"\r\n\r\nOK\r\n
# the old AT+CWDHCP: <mode> 0 softAP, 1 station, 2 both; query bit0 softAP, bit1 station
> AT+CWDHCP?\r\n
< +CWDHCP:3\r\n\r\nOK\r\n
> AT+CWDHCP_CUR=0,0\r\n
< \r\nOK\r\n
> AT+CWDHCP_CUR?\r\n
< +CWDHCP_CUR:2\r\n\r\nOK\r\n
> AT+CWDHCP_DEF=2,1\r\n
< \r\nOK\r\n
> AT+CWDHCP_DEF?\r\n
< +CWDHCP_DEF:3\r\n\r\nOK\r\n
> AT+CWDHCP=3,1\r\n
< \r\nERROR\r\n
# softAP: at most 4 stations; 4 parameters suffice
> AT+CWSAP_CUR="esp8266","1234567890",5,3\r\n
< \r\nOK\r\n
> AT+CWSAP_CUR?\r\n
< +CWSAP_CUR:"esp8266","1234567890",5,3,4,0\r\n\r\nOK\r\n
> AT+CWSAP_DEF="esp8266","1234567890",5,3,5\r\n
< \r\nERROR\r\n
# <pwd> 8~64 bytes in v1.5
> AT+CWSAP_CUR="esp8266","0123456789012345678901234567890123456789012345678901234567890123",5,3\r\n
< \r\nOK\r\n
> AT+CWSAP_CUR="esp8266","01234567890123456789012345678901234567890123456789012345678901234",5,3\r\n
< \r\nERROR\r\n
> AT+CWSAP_CUR="esp8266","1234567",5,3\r\n
< \r\nERROR\r\n
> AT+CWSAP_CUR="esp8266","1234567890",5,3\r\n
< \r\nOK\r\n
> AT+CIPAPMAC_CUR="1a:fe:36:97:d5:7b"\r\n
< \r\nOK\r\n
> AT+CIPAPMAC_CUR?\r\n
< +CIPAPMAC_CUR:"1a:fe:36:97:d5:7b"\r\n\r\nOK\r\n
# AT+CWLIF: <IP addr>,<mac>, no prefix
@ sta join 12:34:56:78:9a:bc password=1234567890
< +STA_CONNECTED:"12:34:56:78:9a:bc"\r\n
~ 300
< +DIST_STA_IP:"12:34:56:78:9a:bc","192.168.4.2"\r\n
> AT+CWLIF\r\n
< 192.168.4.2,12:34:56:78:9a:bc\r\n\r\nOK\r\n
> AT+CWDHCPS_CUR?\r\n
< +CWDHCPS_CUR:120,"192.168.4.2","192.168.4.101"\r\n\r\nOK\r\n
# WeChat discovery needs the station's address
> AT+CWSTARTDISCOVER="gh_sdfe235xfs7k","122475",10\r\n
< \r\nOK\r\n
> AT+CWSTOPDISCOVER\r\n
< \r\nOK\r\n
> AT+CWSTOPDISCOVER\r\n
< \r\nERROR\r\n
> AT+CWQAP\r\n
< \r\nOK\r\nWiFi DISCONNECT\r\n
> AT+CWSTARTDISCOVER="gh_sdfe235xfs7k","122475",10\r\n
< \r\nERROR\r\n
# commands of the ESP32-C3 set that v1.5 lacks
> AT+CWSTATE?\r\n
< \r\nERROR\r\n
> AT+CWJAP\r\n
< \r\nERROR\r\n
# _DEF? prints flash, _CUR? RAM (COMPAT #304); a new softAP drops its stations
> AT+CWSAP_CUR="cur-only","1234567890",6,3\r\n
< +STA_DISCONNECTED:"12:34:56:78:9a:bc"\r\n\r\nOK\r\n
> AT+CWSAP_DEF?\r\n
<~ +CWSAP_DEF:"ESP_{HEX}","",1,0,4,0\r\n\r\nOK\r\n
> AT+CWSAP_DEF="saved","1234567890",7,4,2\r\n
< \r\nOK\r\n
> AT+CWSAP_CUR="cur-only","1234567890",6,3\r\n
< \r\nOK\r\n
> AT+CWSAP_DEF?\r\n
< +CWSAP_DEF:"saved","1234567890",7,4,2,0\r\n\r\nOK\r\n
> AT+CWSAP?\r\n
< +CWSAP:"cur-only","1234567890",6,3,4,0\r\n\r\nOK\r\n
> AT+CIPAPMAC_DEF?\r\n
<~ +CIPAPMAC_DEF:"{STR}"\r\n\r\nOK\r\n
> AT+CIPAP_CUR="192.168.7.1"\r\n
< \r\nOK\r\n
> AT+CIPAP_DEF?\r\n
< +CIPAP_DEF:"192.168.4.1"\r\n\r\nOK\r\n
> AT+CIPAP_CUR?\r\n
< +CIPAP_CUR:"192.168.7.1"\r\n\r\nOK\r\n
> AT+CWDHCP_DEF?\r\n
< +CWDHCP_DEF:3\r\n\r\nOK\r\n
> AT+CWDHCPS_DEF?\r\n
< +CWDHCPS_DEF:120,"192.168.4.2","192.168.4.101"\r\n\r\nOK\r\n
> AT+CIPSTA_DEF?\r\n
< +CIPSTA_DEF:"0.0.0.0"\r\n\r\nOK\r\n
= power-cycle
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+CWSAP?\r\n
< +CWSAP:"saved","1234567890",7,4,2,0\r\n\r\nOK\r\n
> AT+CIPAP?\r\n
< +CIPAP:"192.168.4.1"\r\n\r\nOK\r\n
