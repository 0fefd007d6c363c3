#include "cmd/tcpip.h"

#include <string.h>

#include "cmd/module.h"

bool espat_tcpip_online(const struct espat_module *m)
{
	const struct espat_wifi *w = &m->wifi;
	if (espat_wifi_sta_enabled(m) && w->state == ESPAT_STA_GOT_IP && w->net.to_host)
		return true;
	return espat_wifi_ap_enabled(m);
}

void espat_tcpip_dns_servers(const struct espat_module *m, struct espat_dns_query *q)
{
	(void)m;
	q->nservers = 0;
}
