/** The node fit report ({@code /api/v1/...}) for cluster schedulers. */
@NullMarked
package dev.modserv.http.internal.nodefit;

import org.jspecify.annotations.NullMarked;
