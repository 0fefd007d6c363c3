# 3.1.13 AT+SLEEP: modes 0..3; modem sleep (1) after boot, ESP-IDF's default
# Wi-Fi power save (COMPAT #34).
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SLEEP?\r\n
< +SLEEP:1\r\n\r\nOK\r\n
> AT+SLEEP=0\r\n
< \r\nOK\r\n
> AT+SLEEP?\r\n
< +SLEEP:0\r\n\r\nOK\r\n
> AT+SLEEP=3\r\n
< \r\nOK\r\n
> AT+SLEEP?\r\n
< +SLEEP:3\r\n\r\nOK\r\n
> AT+SLEEP=4\r\n
< \r\nERROR\r\n
> AT+SLEEP\r\n
< \r\nERROR\r\n
> AT+SLEEP?\r\n
< +SLEEP:3\r\n\r\nOK\r\n
