# Imported by cloud-vm.nix with a relative path (like hardware-configuration.nix).
{ config, lib, pkgs, modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];
  boot.initrd.availableKernelModules = [ "ata_piix" "uhci_hcd" "virtio_pci" "sr_mod" "virtio_blk" ];
  fileSystems."/" = { device = "/dev/disk/by-uuid/11111111-2222-3333-4444-555555555555"; fsType = "ext4"; };
  nix.maxJobs = lib.mkDefault 2;
}
