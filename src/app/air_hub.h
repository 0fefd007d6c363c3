/* The shared air's hub: `espat air --socket PATH`. A small process that
 * modules (espat --air PATH) connect to; it keeps who is in the air (each
 * module's softAP, which station is on which softAP with which address)
 * and passes messages between them: joins and their answers, DHCP leases,
 * TCP streams and UDP datagrams addressed inside a softAP's network, BLE
 * advertising sets and the links made to them (by address).
 * docs/internals/air.md. */
#ifndef ESPAT_APP_AIR_HUB_H
#define ESPAT_APP_AIR_HUB_H

/* argv[0] is "air". Runs in the foreground until SIGTERM/SIGINT; returns
 * the exit status. */
int espat_air_hub_main(int argc, char **argv);

#endif
