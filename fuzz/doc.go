// Package fuzz holds fuzz targets that cross package boundaries: the data
// converter the SDK sees, built from the codec, and key loading feeding
// the codec. Targets for one package live beside its code; `make fuzz`
// runs them all.
package fuzz
