# NixOS 18.03 config that the reference rejects (two definitions); see ../../README.md
{ lib, ... }: {
  boot.loader.grub.device = "/dev/vda";
  fileSystems."/".device = "/dev/vda1";
  imports = [ { services.openssh.permitRootLogin = "no"; } ];
  services.openssh = { enable = true; permitRootLogin = "yes"; };
}
