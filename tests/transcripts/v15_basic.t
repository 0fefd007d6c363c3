# ESP8266 v1.5 (--chip esp8266): the basic commands of the instruction set's
# section 3, and what the v1.5 set lacks answering ERROR.
! chip esp8266
> AT\r\n
< AT\r\n\r\nOK\r\n
# AT+GMR: three lines, no Bin version (COMPAT #301)
> AT+GMR\r\n
< AT+GMR\r\nAT version:1.1.0.0(May 11 2016 18:09:56)\r\nSDK version:1.5.4(baaeaebb)\r\ncompile time:May 20 2016 15:06:44\r\n\r\nOK\r\n
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> ATE2\r\n
< \r\nERROR\r\n
> ATE1\r\n
< \r\nOK\r\n
# commands of the ESP32-C3 set that v1.5 lacks
> AT+CMD?\r\n
< AT+CMD?\r\n\r\nERROR\r\n
> AT+SYSSTORE=0\r\n
< AT+SYSSTORE=0\r\n\r\nERROR\r\n
> AT+SYSLOG=1\r\n
< AT+SYSLOG=1\r\n\r\nERROR\r\n
> AT+MQTTUSERCFG=0,1,"a","","",0,0,""\r\n
< AT+MQTTUSERCFG=0,1,"a","","",0,0,""\r\n\r\nERROR\r\n
> AT+RST=1\r\n
< AT+RST=1\r\n\r\nERROR\r\n
# AT+SLEEP: 0 disable, 1 light, 2 modem (the default)
> AT+SLEEP?\r\n
< AT+SLEEP?\r\n+SLEEP:2\r\n\r\nOK\r\n
> AT+SLEEP=0\r\n
< AT+SLEEP=0\r\n\r\nOK\r\n
> AT+SLEEP?\r\n
< AT+SLEEP?\r\n+SLEEP:0\r\n\r\nOK\r\n
> AT+SLEEP=3\r\n
< AT+SLEEP=3\r\n\r\nERROR\r\n
# AT+RFPOWER: set only, 0..82
> AT+RFPOWER=82\r\n
< AT+RFPOWER=82\r\n\r\nOK\r\n
> AT+RFPOWER=83\r\n
< AT+RFPOWER=83\r\n\r\nERROR\r\n
> AT+RFPOWER?\r\n
< AT+RFPOWER?\r\n\r\nERROR\r\n
# AT+RFVDD: query, set [1900,3300], execute (measure)
> AT+RFVDD?\r\n
< AT+RFVDD?\r\n+RFVDD:3300\r\n\r\nOK\r\n
> AT+RFVDD=2000\r\n
< AT+RFVDD=2000\r\n\r\nOK\r\n
> AT+RFVDD?\r\n
< AT+RFVDD?\r\n+RFVDD:2000\r\n\r\nOK\r\n
> AT+RFVDD=1899\r\n
< AT+RFVDD=1899\r\n\r\nERROR\r\n
> AT+RFVDD\r\n
< AT+RFVDD\r\n\r\nOK\r\n
> AT+RFVDD?\r\n
< AT+RFVDD?\r\n+RFVDD:3300\r\n\r\nOK\r\n
# AT+UART_CUR: not saved; AT+UART_DEF and AT+UART: saved (COMPAT #302)
> AT+UART_DEF=115200,8,1,0,0\r\n
< AT+UART_DEF=115200,8,1,0,0\r\n\r\nOK\r\n
> AT+UART_DEF?\r\n
< AT+UART_DEF?\r\n+UART_DEF:115200,8,1,0,0\r\n\r\nOK\r\n
> AT+UART=109,8,1,0,0\r\n
< AT+UART=109,8,1,0,0\r\n\r\nERROR\r\n
> AT+UART?\r\n
< AT+UART?\r\n\r\nERROR\r\n
# AT+RST: OK, dead for the restart, then the v1.5 boot text (COMPAT #300)
> AT+RST\r\n
< AT+RST\r\n\r\nOK\r\n
~ 300
< \r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nready\r\n
# AT+GSLP=<time>: prints the time, OK, sleeps, boots
> AT+GSLP=1000\r\n
< AT+GSLP=1000\r\n1000\r\n\r\nOK\r\n
~ 1000
< \r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nready\r\n
> AT+SLEEP?\r\n
< AT+SLEEP?\r\n+SLEEP:2\r\n\r\nOK\r\n
# AT+CIUPDATE without a network: ERROR, no progress line (COMPAT #318)
> AT+CIUPDATE\r\n
< AT+CIUPDATE\r\n\r\nERROR\r\n
> AT+CIUPDATE=1\r\n
< AT+CIUPDATE=1\r\n\r\nERROR\r\n
# AT+SAVETRANSLINK: TCP or UDP only (COMPAT #315)
> AT+SAVETRANSLINK=1,"192.168.6.110",1002,"TCP"\r\n
< AT+SAVETRANSLINK=1,"192.168.6.110",1002,"TCP"\r\n\r\nOK\r\n
> AT+SAVETRANSLINK=1,"192.168.6.110",1002,"SSL"\r\n
< AT+SAVETRANSLINK=1,"192.168.6.110",1002,"SSL"\r\n\r\nERROR\r\n
> AT+SAVETRANSLINK=1,"192.168.6.110",1002,"TCP",7201\r\n
< AT+SAVETRANSLINK=1,"192.168.6.110",1002,"TCP",7201\r\n\r\nERROR\r\n
> AT+SAVETRANSLINK=0\r\n
< AT+SAVETRANSLINK=0\r\n\r\nOK\r\n
# offline: no Wi-Fi connection
> AT+CIPSTATUS\r\n
< AT+CIPSTATUS\r\nSTATUS:5\r\n\r\nOK\r\n
> AT+PING="127.0.0.1"\r\n
< AT+PING="127.0.0.1"\r\n\r\nERROR\r\n
> AT+CIPSSLSIZE=4097\r\n
< AT+CIPSSLSIZE=4097\r\n\r\nERROR\r\n
> AT+CIPSENDBUF=10\r\n
< AT+CIPSENDBUF=10\r\n\r\nERROR\r\n
