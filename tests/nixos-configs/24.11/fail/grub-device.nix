# NixOS 24.11 config that the reference rejects (GRUB without a device, an
# assertion); see ../../README.md
{ ... }: {
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking.firewall.enable = false;
  documentation.nixos.enable = false;
  nixpkgs.hostPlatform = "x86_64-linux";
  system.stateVersion = "24.11";
}
