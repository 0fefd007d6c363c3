# 3.1.25 AT+SLEEPWKCFG: only GPIO wakeup (source 2) is supported.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SLEEPWKCFG=2,12,0\r\n
< \r\nOK\r\n
> AT+SLEEPWKCFG=2,9,1\r\n
< \r\nOK\r\n
> AT+SLEEPWKCFG=0,1000\r\n
< \r\nERROR\r\n
> AT+SLEEPWKCFG=1,1000\r\n
< \r\nERROR\r\n
> AT+SLEEPWKCFG=2,12,2\r\n
< \r\nERROR\r\n
> AT+SLEEPWKCFG=3,12,0\r\n
< \r\nERROR\r\n
> AT+SLEEPWKCFG?\r\n
< \r\nERROR\r\n
# GPIO wake-up needs its level (COMPAT #35)
> AT+SLEEPWKCFG=2,12\r\n
< \r\nERROR\r\n
