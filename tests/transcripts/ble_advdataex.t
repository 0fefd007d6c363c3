# AT+BLEADVDATAEX as the guide runs it [000:7110], with echo on: the set
# does not start advertising, the query prints the parameters quoted, and
# AT+BLEADVDATA takes the advertising data back (COMPAT #450). Then
# AT+CIPMODE=1 is refused while BLE is initialized (COMPAT #452).
> AT+BLEINIT=2\r\n
< AT+BLEINIT=2\r\n\r\nOK\r\n
> AT+BLEADVDATAEX="ESP-AT","A002","0102030405",1\r\n
< AT+BLEADVDATAEX="ESP-AT","A002","0102030405",1\r\n\r\nOK\r\n
> AT+BLEADVDATAEX?\r\n
< AT+BLEADVDATAEX?\r\n+BLEADVDATAEX:"ESP-AT","A002","0102030405",1\r\n\r\nOK\r\n
> AT+BLEADVPARAM?\r\n
< AT+BLEADVPARAM?\r\n+BLEADVPARAM:32,64,0,0,7,0,0,"00:00:00:00:00:00",1,1\r\n\r\nOK\r\n
> AT+BLEADVSTART\r\n
< AT+BLEADVSTART\r\n\r\nOK\r\n
> AT+BLEADVDATA="1122334455"\r\n
< AT+BLEADVDATA="1122334455"\r\n\r\nOK\r\n
> AT+BLEADVDATAEX?\r\n
< AT+BLEADVDATAEX?\r\n\r\nERROR\r\n
> AT+CIPMODE=1\r\n
< AT+CIPMODE=1\r\n\r\nERROR\r\n
> AT+BLEINIT=0\r\n
< AT+BLEINIT=0\r\n\r\nOK\r\n
> AT+CIPMODE=1\r\n
< AT+CIPMODE=1\r\n\r\nOK\r\n
