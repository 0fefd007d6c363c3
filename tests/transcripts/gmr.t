# 3.1.4 AT+GMR: the v3.3.0.0 build of the guide's examples.
> AT+GMR\r\n
< AT+GMR\r\n
< AT version:3.3.0.0(3b13d04 - ESP32C3 - May  8 2024 08:21:54)\r\n
< SDK version:v5.0.6-dirty\r\n
< compile time(be332568):May  8 2024 08:51:33\r\n
< Bin version:v3.3.0.0(MINI-1)\r\n
< \r\nOK\r\n
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+GMR?\r\n
< \r\nERROR\r\n
> AT+GMR=1\r\n
< \r\nERROR\r\n
