# Strings (guide 3.13): double quotes; inside, \\ is a backslash, \, a
# comma, \" a quote and \<any> is <any>. Lengths count the unescaped bytes.
# (In transcript syntax a backslash on the wire is written \\, so the
# module receives "host\,with" where this file says "host\\,with".)
> ATE0\r\n
< ATE0\r\n\r\nOK\r\n
> AT+SYSLOG=1\r\n
< \r\nOK\r\n
> AT+SAVETRANSLINK=1,"host\\,with\\"odd\\\\chars",1002\r\n
< \r\nOK\r\n
> AT+SAVETRANSLINK=1,"a,b",1002\r\n
< \r\nOK\r\n
# unterminated, junk after the quote, an escaped closing quote
> AT+SAVETRANSLINK=1,"abc,1002\r\n
< ERR CODE:0x01080001\r\n\r\nERROR\r\n
> AT+SAVETRANSLINK=1,"abc"d,1002\r\n
< ERR CODE:0x01080001\r\n\r\nERROR\r\n
> AT+SAVETRANSLINK=1,"abc\\",1002\r\n
< ERR CODE:0x01080001\r\n\r\nERROR\r\n
# the host is at most 64 bytes: 64 escaped bytes (128 typed) are fine
> AT+SAVETRANSLINK=1,"\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h",1002\r\n
< \r\nOK\r\n
> AT+SAVETRANSLINK=1,"\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\h\\a\\b\\c\\d\\e\\f\\g\\hX",1002\r\n
< ERR CODE:0x01070001\r\n\r\nERROR\r\n
