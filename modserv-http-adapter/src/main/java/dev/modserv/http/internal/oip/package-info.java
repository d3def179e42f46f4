/** The Open Inference Protocol v2 dialect ({@code /v2/...}) and its binary and repository extensions. */
@NullMarked
package dev.modserv.http.internal.oip;

import org.jspecify.annotations.NullMarked;
