# The driver, user and signaling commands against the built-in world's
# devices (docs/internals/world.md): its sensor at 0x34, its EEPROM at
# 0x50, its SPI memory, 1200 mV on ADC1 channel 0; a device attached and
# changed through ctl; the wake byte before a report (AT+USERWKMCUCFG).
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
# ADC1: 1200 mV at 11 dB
> AT+DRVADC=0,3\r\n
< +DRVADC:1966\r\n\r\nOK\r\n
@ adc 0 750
> AT+DRVADC=0,0\r\n
< +DRVADC:4095\r\n\r\nOK\r\n
# I2C: before init, then the sensor's register 0x0f, a NACK, a new device
> AT+DRVI2CRD=0,0x34,1\r\n
< ERR CODE:0x010a0000\r\n\r\nERROR\r\n
> AT+DRVI2CINIT=0,4,5,100000\r\n
< \r\nOK\r\n
> AT+DRVI2CWRBYTES=0,0x34,1,0x0f\r\n
< \r\nOK\r\n
> AT+DRVI2CRD=0,0x34,1\r\n
< +DRVI2CRD:1a\r\n\r\nOK\r\n
> AT+DRVI2CRD=0,0x48,2\r\n
< ERR CODE:0x010a0000\r\n\r\nERROR\r\n
@ i2c add lm75 addr=0x48 type=sensor data=1980
> AT+DRVI2CRD=0,0x48,2\r\n
< +DRVI2CRD:1980\r\n\r\nOK\r\n
@ i2c write lm75 0 1a00
> AT+DRVI2CWRBYTES=0,0x48,1,0\r\n
< \r\nOK\r\n
> AT+DRVI2CRD=0,0x48,2\r\n
< +DRVI2CRD:1a00\r\n\r\nOK\r\n
# the EEPROM: pointer 0x10, four bytes, read back
> AT+DRVI2CWRDATA=0,0x50,5\r\n
< \r\nOK\r\n>
> \x10abcd
< \r\nOK\r\n
> AT+DRVI2CWRBYTES=0,0x50,1,0x10\r\n
< \r\nOK\r\n
> AT+DRVI2CRD=0,0x50,5\r\n
< +DRVI2CRD:61626364ff\r\n\r\nOK\r\n
> AT+DRVI2CRD=0,0x50,2049\r\n
< ERR CODE:0x01070002\r\n\r\nERROR\r\n
# SPI: pins, init, the memory's READ and WRITE
> AT+DRVSPICONFGPIO=7,2,6,10\r\n
< \r\nOK\r\n
> AT+DRVSPIINIT=1000000,0,8,24,1\r\n
< \r\nOK\r\n
> AT+DRVSPIWR=2,0x02,1,0x000020,3\r\n
< \r\nOK\r\n>
> \xca\xfe
< \r\nOK\r\n
> AT+DRVSPIRD=3,0x03,1,0x000020,3\r\n
< +DRVSPIRD:cafeff\r\n\r\nOK\r\n
# PWM: the LEDC limit has its code
> AT+DRVPWMINIT=10000,14,17\r\n
< ERR CODE:0x01070000\r\n\r\nERROR\r\n
> AT+DRVPWMINIT=9765,13,17\r\n
< \r\nOK\r\n
> AT+DRVPWMDUTY=8192\r\n
< \r\nOK\r\n
> AT+FACTPLCP=1,1\r\n
< \r\nOK\r\n
# the wake byte: the host said it sleeps, so a report waits 50 ms behind
# it; bit2: awake after the wait, so the next report goes at once
> AT+CWMODE=3\r\n
< \r\nOK\r\n
> AT+USERWKMCUCFG=1,2,1,0x5a,50,5\r\n
< \r\nOK\r\n
> AT+USERMCUSLEEP=1\r\n
< \r\nOK\r\n
@ sta join 5e:d9:97:7b:ad:3c
< \x5a
~ 50
< +STA_CONNECTED:"5e:d9:97:7b:ad:3c"\r\n
~ 300
< +DIST_STA_IP:"5e:d9:97:7b:ad:3c","192.168.4.2"\r\n
> AT+USERDOCS?\r\n
< +USERDOCS:"https://docs.espressif.com/projects/esp-at/en/latest/esp32c3/index.html"\r\n
< +USERDOCS:"https://docs.espressif.com/projects/esp-at/zh_CN/latest/esp32c3/index.html"\r\n\r\nOK\r\n
