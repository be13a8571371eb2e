# A failing user assertion next to a deprecated-option warning.
{ config, lib, ... }:
{
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/".device = "/dev/sda1";
  assertions = [ { assertion = config.networking.hostName != "nixos"; message = "set a host name (got ${config.networking.hostName})"; } ];
}
