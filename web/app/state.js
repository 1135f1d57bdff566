// state.js: the page's one state object: what is open and the views
// showing it. Every module reads and changes this object, and nothing else
// holds page state (the views keep only their own drawing state).

// The open image: everything the views need.
export const S = {
  res: null, // open result {image, key, summary, files}
  info: null,
  report: null,
  verifyProgress: null,
  verifyError: null,
  verifyRun: 0,
  files: [], // files[k]: Blob of chain level k
  hex: null,
  batmap: null,
  pending: null, // missing parent: {files, handles, error}
  dropped: null, // separate disks dropped at once: {files, handles, disks: [leaf names]}
  given: null, // every file given to the open image's open (used or not): {files, handles}
  unreadable: null,
  parts: null, // the engine's partition table of the open image (parts), for the summary
  filesPanel: null, // the Files tab (FilesPanel)
  downloads: null, // the page's download list (DownloadList)
  verifyCancel: null, // stops the running verify
  hashDialog: null, // HashDialog
  searchBar: null, // SearchBar
  inspector: null, // Inspector (the data inspector beside the hex view)
  downloadDialog: null, // DownloadDialog
  pageBuild: '', // the build the page shows ("Engine …"), from web/manifest.json
};
