# 3.1.21 AT+RFPOWER: Wi-Fi power in 0.25 dBm (40..84, 81..84 read as 80);
# the BLE levels come as a group of three, scan and conn follow adv.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+RFPOWER?\r\n
<~ +RFPOWER:{INT},{INT},{INT},{INT}\r\n\r\nOK\r\n
> AT+RFPOWER=84\r\n
< \r\nOK\r\n
> AT+RFPOWER?\r\n
<~ +RFPOWER:80,{INT},{INT},{INT}\r\n\r\nOK\r\n
> AT+RFPOWER=60,5,9,12\r\n
< \r\nOK\r\n
> AT+RFPOWER?\r\n
< +RFPOWER:60,5,5,5\r\n\r\nOK\r\n
> AT+RFPOWER=40,,,\r\n
< \r\nOK\r\n
> AT+RFPOWER?\r\n
< +RFPOWER:40,5,5,5\r\n\r\nOK\r\n
> AT+RFPOWER=39\r\n
< \r\nERROR\r\n
> AT+RFPOWER=85\r\n
< \r\nERROR\r\n
> AT+RFPOWER=60,5\r\n
< \r\nERROR\r\n
> AT+RFPOWER=60,16,0,0\r\n
< \r\nERROR\r\n
