// advice.js: what an engine error means to a person: a title naming the
// file and the structure, and what to do next.

import { hexPlain } from './dom.js';

// advice explains an engine error: {title, next}.
export function advice(e, name) {
  const n = e && e.name;
  const where = e && e.structure ? `${e.structure}${e.offset !== undefined ? ` at file offset 0x${hexPlain(e.offset)}` : ''}` : '';
  switch (n) {
    case 'FormatError':
      if (e.kind_name || e.structure === 'file type identifier' || /signature/i.test(e.message || '') && e.offset === 0) {
        return {
          title: e.kind_name ? `${e.file || name} is ${e.kind_name}, not a disk image vhdxview reads` : `${name} is not a disk image vhdxview reads`,
          next: `vhdxview reads VHDX, VHD and raw disk images. ${e.raw_possible ? 'If the file is a disk without a container (a dd image, a partition or volume dump), open it as a raw disk: its bytes are read as the disk\'s. ' : ''}A VMDK or qcow2 file can be converted first, e.g. qemu-img convert -O vhdx disk.vmdk disk.vhdx.`,
        };
      }
      return {
        title: `${name} is damaged and cannot be opened${where ? `: ${where}` : ''}`,
        next: 'Its raw bytes are shown in the file hex view so you can look at the damage. If you have another copy or a backup, try that one.',
      };
    case 'UnsupportedError':
      return { title: `${name} uses something vhdxview cannot read${where ? ` (${where})` : ''}`, next: 'The raw bytes are shown in the file hex view.' };
    case 'ChainError':
      // The engine says which rule the chain breaks; name that one.
      if (/logical sector size/.test(e.message || '')) {
        return { title: `The parent of ${e.child || name} has another logical sector size`, next: 'A differencing disk and its parent use the same logical sector size, so the file given is not its parent. Find the parent the locator names and drop it with the child.' };
      }
      if (/cycle/.test(e.message || '')) {
        return { title: 'These files name each other as parents', next: 'A chain ends at a disk without a parent; drop the child with the parents its locator names.' };
      }
      if (/never chain/.test(e.message || '')) {
        return { title: `The parent of ${e.child || name} must be of its own format`, next: 'A VHDX disk\'s parent is a VHDX file and a VHD disk\'s parent a VHD file. Find the parent the locator names and drop it with the child.' };
      }
      return { title: `The parent disk does not match ${e.child || name}`, next: 'A differencing disk records the identity of its parent (VHDX: DataWriteGuid; VHD: Unique Id); the file given has another one (it was changed after the child was made, or it is a different disk). Find the parent the locator names and drop it with the child.' };
    case 'MultipleImagesError':
      return { title: 'These files are separate disks, not one chain', next: 'Open one disk at a time; for a differencing disk, drop the child together with its own parents only.' };
    case 'ReadError':
      return { title: `The browser could not read ${e.file || name}`, next: 'If the file was moved, changed or is on a network drive that went away, open it again (copy it to a local disk if it keeps failing).' };
    case 'NotStoredError':
      return { title: 'The bytes of this image were not kept', next: 'It was too large to store in the browser, or the quota was full. Open the file again from disk.' };
    case 'StorageUnavailableError':
      return { title: 'This browser cannot remember images here', next: 'IndexedDB is not available (a private window?). Images still open; they are just not remembered.' };
    case 'InternalError':
      return { title: `vhdxview failed on ${name}`, next: 'This is not a problem with the file as far as vhdxview can tell. Close it and try again.' };
    case 'EngineError':
    case 'WorkerError':
      return { title: 'The engine stopped', next: 'Reload the page. If it happens again with this file, please report it with the file\'s `vhdx check` output.' };
    default:
      return { title: `Cannot open ${name}`, next: 'Check that the file is a complete VHDX, VHD or raw disk image, then try again.' };
  }
}
