# BluFi (guide 3.4.45-3.4.47; COMPAT #500-#503): the commands, a scripted phone
# connecting to the BluFi advertising, a custom data frame (clear, no
# security negotiated) written to 0xFF01, AT+BLUFISEND, the phone hanging up
# and AT+BLUFI=0 with a phone connected.
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+BLUFI?\r\n
< +BLUFI:0\r\n\r\nOK\r\n
> AT+BLUFINAME="blufi_test"\r\n
< \r\nOK\r\n
> AT+BLUFINAME?\r\n
< +BLUFINAME:blufi_test\r\n\r\nOK\r\n
> AT+BLUFISEND=4\r\n
< \r\nERROR\r\n
> AT+BLUFI=1\r\n
< \r\nOK\r\n
> AT+BLEINIT=2\r\n
< \r\nERROR\r\n
@ ble peer add phone addr=60:51:42:fe:98:b1 name=phone
@ ble peer connect phone
< +BLUFICONN\r\n
# type 0x4d (data, custom), no frame control, sequence 0, 5 bytes
@ ble peer write phone 3 4d00000568656c6c6f
< +BLUFIDATA:5,hello\r\n
# sequence 1: data with a comma and CR LF inside, printed raw
@ ble peer write phone 3 4d0001056f6b2c0d0a
< +BLUFIDATA:5,ok,\r\n\r\n
> AT+BLUFISEND=4\r\n
< >
> test
< \r\nOK\r\n
@ ble peer received phone
@ ble peer disconnect phone
< +BLUFIDISCONN\r\n
@ ble peer connect phone
< +BLUFICONN\r\n
# a new link: the sequence starts at 0 again
@ ble peer write phone 3 4d00000568656c6c6f
< +BLUFIDATA:5,hello\r\n
> AT+BLUFI=0\r\n
< +BLUFIDISCONN\r\n\r\nOK\r\n
> AT+BLUFI?\r\n
< +BLUFI:0\r\n\r\nOK\r\n
@! ble peer write phone 3 4d00000568656c6c6f
