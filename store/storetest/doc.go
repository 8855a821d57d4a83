// Package storetest writes small synthetic MR Part 10 files and provides a fake Sender, for tests of
// store/ and of the commands that use it.
//
// Imports: the standard library, github.com/suyashkumar/dicom, dimse/ and store/.
package storetest
