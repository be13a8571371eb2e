# A module whose config is not an attribute set under mkIf.
{ lib, ... }:
{
  imports = [ ({ ... }: { config = lib.mkIf true [ 1 ]; }) ];
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/".device = "/dev/sda1";
}
