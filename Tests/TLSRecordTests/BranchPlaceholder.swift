// main names the TLSRecordTests target before its sources are committed; this empty
// file lets the x509 branch build meanwhile. Delete it once the record tests land.
