/**
 * modserv's value types and engine SPI: what applications pass to a model server and what engine
 * authors implement. Depends on nothing but JSpecify.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.api {
  requires static transitive org.jspecify;

  exports dev.modserv.api;
  exports dev.modserv.spi;
}
